-- The rates the shop applies in its home zone (STORE_COUNTRY / STORE_ZONE),
-- per tax class and priority, as osCommerce's tep_get_tax_rate selects them:
-- a geo zone member whose country or zone is 0 or NULL stands for every
-- country or zone, and a rate whose geo zone has no members applies
-- everywhere (the LEFT JOIN). magsync adds rates of one priority and
-- compounds different priorities, as the shop does.
SELECT tr.tax_class_id, tr.tax_priority, tr.tax_rate AS rate
FROM tax_rates tr
LEFT JOIN zones_to_geo_zones z ON z.geo_zone_id = tr.tax_zone_id
WHERE (z.zone_country_id IS NULL OR z.zone_country_id = 0 OR z.zone_country_id = :country)
  AND (z.zone_id IS NULL OR z.zone_id = 0 OR z.zone_id = :zone)
