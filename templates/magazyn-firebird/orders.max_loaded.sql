-- products flow, extract, and orders flow, load: the highest shop order
-- number of this shop the Magazyn has loaded (none: the orders load is the
-- shop's first, its history, whose delivered orders issue no goods).
-- Shop orders beyond it have lowered the shop's stock (osCommerce does at
-- checkout) but reserve nothing here yet: the shop side subtracts them from
-- the stock it pushes.
-- Parameter: :shop.
SELECT MAX(CAST(confirmed_number AS BIGINT)) AS max_id FROM orders WHERE shop = :shop
