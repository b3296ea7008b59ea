-- Shop settings that decide how orders were computed, read with every
-- extract and recorded in the batch tag file ([settings]).
SELECT configuration_key AS name, configuration_value AS value
FROM configuration
WHERE configuration_key IN ('DISPLAY_PRICE_WITH_TAX', 'DEFAULT_CURRENCY')
