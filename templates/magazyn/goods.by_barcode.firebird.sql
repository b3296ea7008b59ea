SELECT DISTINCT good_id FROM good_barcodes WHERE barcode = :code ROWS 2
