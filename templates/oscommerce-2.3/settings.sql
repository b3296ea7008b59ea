-- Shop settings that decide how orders were computed, read with every
-- extract and recorded in the batch tag file ([settings]): the display
-- mode, the default currency, the order-total modules in the order the
-- checkout runs them, the shipping modules installed, and the tax class of
-- every shipping and order-total module (their VAT; the rates per class
-- are recorded beside them as tax_rate.<class>).
SELECT configuration_key AS name, configuration_value AS value
FROM configuration
WHERE configuration_key IN ('DISPLAY_PRICE_WITH_TAX', 'DEFAULT_CURRENCY',
                            'MODULE_ORDER_TOTAL_INSTALLED', 'MODULE_SHIPPING_INSTALLED')
   OR configuration_key LIKE 'MODULE!_SHIPPING!_%!_TAX!_CLASS' ESCAPE '!'
   OR configuration_key LIKE 'MODULE!_ORDER!_TOTAL!_%!_TAX!_CLASS' ESCAPE '!'
