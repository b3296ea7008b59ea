-- customers flow, extract: every registered customer with the default
-- address book entry. Never select customers_password.
--
-- Parameters:
--   :full      1 = everything, 0 = incremental
--   :since     incremental lower bound (last acknowledged signpost minus overlap)
--   :after_id  highest customers_id extracted and acknowledged before: newer
--              customers are taken whatever customers_info says
--   :language_id  the shop language (unused here; available to copies)
-- Columns returned (names matter, order does not): customers_id, gender,
--   firstname, lastname, email, telephone, fax, company, street, suburb,
--   postcode, city, state, country, country_iso2, created_at, modified_at,
--   and optionally nip (e.g. `a.entry_nip AS nip` in a shop that has it).
SELECT
  c.customers_id                               AS customers_id,
  c.customers_gender                           AS gender,
  c.customers_firstname                        AS firstname,
  c.customers_lastname                         AS lastname,
  c.customers_email_address                    AS email,
  c.customers_telephone                        AS telephone,
  c.customers_fax                              AS fax,
  a.entry_company                              AS company,
  a.entry_street_address                       AS street,
  a.entry_suburb                               AS suburb,
  a.entry_postcode                             AS postcode,
  a.entry_city                                 AS city,
  COALESCE(NULLIF(a.entry_state, ''), z.zone_name) AS state,
  co.countries_name                            AS country,
  co.countries_iso_code_2                      AS country_iso2,
  ci.customers_info_date_account_created       AS created_at,
  ci.customers_info_date_account_last_modified AS modified_at
FROM customers c
LEFT JOIN customers_info ci ON ci.customers_info_id = c.customers_id
LEFT JOIN address_book a
       ON a.address_book_id = c.customers_default_address_id
      AND a.customers_id = c.customers_id
LEFT JOIN countries co ON co.countries_id = a.entry_country_id
LEFT JOIN zones z ON z.zone_id = a.entry_zone_id
WHERE :full = 1
   OR c.customers_id > :after_id
   OR ci.customers_info_date_account_created >= :since
   OR ci.customers_info_date_account_last_modified >= :since
ORDER BY c.customers_id
