-- End a batch's transaction, undoing it (Firebird: the API's rollback).
ROLLBACK
