"""The tables an orders extract reads, as a plain dump reads them: the
physical limit of getting these rows out of MariaDB (benches/full.sh).
The statuses are joined to the headers as the extract needs their names."""
TABLES = [
    ("orders", "SELECT o.*, s.orders_status_name FROM orders o "
               "LEFT JOIN orders_status s ON s.orders_status_id = o.orders_status AND s.language_id = 1"),
    ("orders_total", "SELECT * FROM orders_total"),
    ("orders_status_history", "SELECT * FROM orders_status_history"),
    ("orders_products", "SELECT * FROM orders_products"),
    ("orders_products_attributes", "SELECT * FROM orders_products_attributes"),
]

if __name__ == "__main__":
    for name, sql in TABLES:
        print(f"{name}\t{sql}")
