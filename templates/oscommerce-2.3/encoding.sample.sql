-- magsync encoding detection: a sample of real text (names and cities),
-- read as raw bytes. Polish letters in it decide how the shop stores text.
SELECT v FROM (SELECT customers_lastname AS v FROM customers ORDER BY customers_id DESC LIMIT 300) a
UNION ALL
SELECT v FROM (SELECT entry_city AS v FROM address_book ORDER BY address_book_id DESC LIMIT 300) b
UNION ALL
SELECT v FROM (SELECT products_name AS v FROM products_description ORDER BY products_id DESC LIMIT 300) c
