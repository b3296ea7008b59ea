-- What the customer wrote at checkout (the first status history comment,
-- "Proszę o fakturę VAT"), and whether the buyer is a company (an invoice)
-- or a person (a receipt). Orders loaded before read no comment and 0.
-- Firebird: COMMENT is a reserved word; no COLUMN keyword; DEFAULT before NOT NULL.
ALTER TABLE orders ADD customer_comment BLOB SUB_TYPE TEXT;
ALTER TABLE orders ADD buyer_is_company SMALLINT DEFAULT 0 NOT NULL;
