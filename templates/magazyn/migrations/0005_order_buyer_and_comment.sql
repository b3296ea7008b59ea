-- What the customer wrote at checkout (the first status history comment,
-- "Proszę o fakturę VAT"), and whether the buyer is a company (an invoice)
-- or a person (a receipt). Orders loaded before read no comment and 0.
ALTER TABLE orders ADD COLUMN customer_comment TEXT;
ALTER TABLE orders ADD COLUMN buyer_is_company INTEGER NOT NULL DEFAULT 0;
