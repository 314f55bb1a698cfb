-- name: RevenueByStatus :many
-- RevenueByStatus counts the orders and sums their totals per status.
SELECT status, count(*) AS orders, sum(total)::double precision AS revenue
FROM "orders"
GROUP BY status
ORDER BY status;

-- name: LowStock :many
-- LowStock lists the products with at most the given stock, fewest first.
SELECT sku, name, stock FROM products WHERE stock <= $1 ORDER BY stock, sku;
