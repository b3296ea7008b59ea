-- orders flow, load: goods.by_code.sql for many codes at once (the codes on
-- the lines of the next orders a load applies): one statement instead of a
-- round trip per code. A code no good has has no row (the load then tries
-- it as a barcode, goods.by_barcode.sql).
-- Parameters: :codes (a list: magsync binds as many values as it asks for).
SELECT code, id FROM goods WHERE code IN (:codes)
