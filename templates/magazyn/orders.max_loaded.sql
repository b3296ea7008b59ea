-- products flow, extract, and orders flow, load: the highest shop order
-- number of this shop the Magazyn has loaded (none: the orders load is the
-- shop's first, its history, whose delivered orders issue no goods).
-- Shop orders beyond it have lowered the shop's stock (osCommerce does at
-- checkout) but reserve nothing here yet: the shop side subtracts them from
-- the stock it pushes.
-- Only orders with an id above :after (0: all): magsync takes the highest
-- of those the last load's comparison read from magsync_checks (key_max).
-- Parameters: :shop, :after.
SELECT MAX(CAST(confirmed_number AS BIGINT)) AS max_id FROM orders WHERE shop = :shop AND id > :after
