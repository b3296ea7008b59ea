-- Storage engines of the shop's tables (MyISAM has no transactions).
SELECT TABLE_NAME AS name, ENGINE AS engine
FROM information_schema.TABLES
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ('products', 'orders', 'customers')
