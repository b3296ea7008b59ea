-- End a batch's transaction, keeping it (Firebird: the API's commit).
COMMIT
