-- The rates the shop applies in its home zone (STORE_COUNTRY / STORE_ZONE),
-- per tax class and priority (osCommerce compounds across priorities).
SELECT tr.tax_class_id, tr.tax_priority, tr.tax_rate AS rate
FROM tax_rates tr
JOIN zones_to_geo_zones z ON z.geo_zone_id = tr.tax_zone_id
WHERE z.zone_country_id = :country
  AND (z.zone_id IS NULL OR z.zone_id = 0 OR z.zone_id = :zone)
