-- orders flow, extract: the shop's countries, read once; an order keeps its
-- country as a name (`billing_country`, `delivery_country`), the Magazyn
-- wants the ISO code. Where two countries share a name the smaller code wins.
SELECT countries_name AS name, countries_iso_code_2 AS iso2 FROM countries
