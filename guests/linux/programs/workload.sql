-- A small OLTP-and-report mix: @rows orders over 1000 customers from a linear congruential
-- generator, an index, updates, and reports with joins, grouping and window functions.
CREATE TABLE customer(id INTEGER PRIMARY KEY, name TEXT, region INTEGER);
CREATE TABLE orders(id INTEGER PRIMARY KEY, customer INTEGER, amount INTEGER, day INTEGER);
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 1000)
  INSERT INTO customer SELECT i, 'cust' || (i * 7919 % 10007), i % 17 FROM c;
WITH RECURSIVE g(i, x) AS (SELECT 1, 12345 UNION ALL SELECT i + 1, (x * 1103515245 + 12345) % 2147483648 FROM g WHERE i < @rows)
  INSERT INTO orders SELECT i, 1 + x % 1000, x / 1000 % 5000, x / 7 % 365 FROM g;
CREATE INDEX orders_customer ON orders(customer);
UPDATE orders SET amount = amount * 2 WHERE day % 10 = 3;
DELETE FROM orders WHERE amount < 25;
SELECT region, count(*), sum(amount), min(amount), max(amount) FROM orders JOIN customer ON customer.id = orders.customer
  GROUP BY region ORDER BY region;
SELECT name, total, rank() OVER (ORDER BY total DESC, name) FROM
  (SELECT name, sum(amount) AS total FROM orders JOIN customer ON customer.id = orders.customer GROUP BY name)
  ORDER BY total DESC, name LIMIT 50;
SELECT day, count(*), avg(amount) FROM orders GROUP BY day HAVING count(*) > 2 ORDER BY day;
SELECT o.id, o.amount FROM orders o WHERE o.amount > (SELECT avg(amount) * 1.9 FROM orders WHERE customer = o.customer)
  ORDER BY o.id LIMIT 200;
