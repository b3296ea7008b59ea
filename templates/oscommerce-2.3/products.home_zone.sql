SELECT configuration_key AS name, configuration_value AS value
FROM configuration WHERE configuration_key IN ('STORE_COUNTRY', 'STORE_ZONE')
