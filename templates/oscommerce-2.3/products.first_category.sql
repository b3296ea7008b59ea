-- Where new products go when no category is configured: the first root category.
SELECT MIN(categories_id) AS categories_id FROM categories WHERE parent_id = 0
