-- Daily revenue per region, for the report bucket
SELECT region,
       sum(amount) AS revenue
FROM {{ params.database }}.orders
WHERE order_date = '{{ params.day }}'
GROUP BY region
ORDER BY region
