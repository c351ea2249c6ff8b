-- OrdersPg's tables and demo data: customers c-1..c-20 with 2..40 orders each, 3 items per
-- order, and 400 000 order_lines rows (no index on customer_id: the slow query).
CREATE TABLE IF NOT EXISTS orders (id serial PRIMARY KEY, customer_id text NOT NULL,
                                   status text NOT NULL);
CREATE INDEX IF NOT EXISTS orders_customer ON orders (customer_id);
CREATE TABLE IF NOT EXISTS order_items (order_id int NOT NULL REFERENCES orders (id),
                                        sku text NOT NULL, quantity int NOT NULL,
                                        unit_price numeric(10, 2) NOT NULL);
CREATE INDEX IF NOT EXISTS order_items_order ON order_items (order_id);
CREATE TABLE IF NOT EXISTS order_lines (customer_id text NOT NULL, amount numeric(10, 2));

INSERT INTO orders (customer_id, status)
SELECT 'c-' || c, CASE WHEN n % 3 = 0 THEN 'shipped' ELSE 'open' END
FROM generate_series(1, 20) AS c, generate_series(1, 40) AS n
WHERE n <= c * 2;
INSERT INTO order_items (order_id, sku, quantity, unit_price)
SELECT o.id, 'sku-' || (o.id * 3 + i), i, 4.50 + i FROM orders o, generate_series(1, 3) AS i;
INSERT INTO order_lines (customer_id, amount)
SELECT 'c-' || (n % 20 + 1), (n % 97) + 0.99 FROM generate_series(1, 400000) AS n;
ANALYZE;
