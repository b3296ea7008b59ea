-- products flow (shop side): the settings the push depends on. A gross shop
-- (DISPLAY_PRICE_WITH_TAX = true) gets the net that shows the Magazyn gross,
-- a net shop the Magazyn net; STOCK_LIMITED = true lowers products_quantity
-- at checkout (then orders the Magazyn has not loaded are subtracted);
-- STOCK_ALLOW_CHECKOUT = true sells what the shop does not hold (then
-- hide_at_or_below hides nothing).
SELECT configuration_key AS name, configuration_value AS value
FROM configuration
WHERE configuration_key IN ('DISPLAY_PRICE_WITH_TAX', 'STOCK_LIMITED', 'STOCK_ALLOW_CHECKOUT')
