-- Monthly paid conversions (marketing) next to weighted revenue (sales).
-- Written to a location of its own per run: Athena refuses a CTAS into a non-empty
-- location, and DROP TABLE keeps the data of the table it drops.
CREATE TABLE {{ params.database }}.sales_marketing_revenue
WITH (
  format = 'PARQUET',
  external_location = 's3://{{ params.transformed_bucket }}/summary/sales_marketing_revenue/{{ run_id }}/'
) AS
SELECT marketing.year, marketing.month, total_paid_conversion, total_weighted_revenue
FROM (
  SELECT year, month, sum(paid_conversion) AS total_paid_conversion
  FROM {{ params.database }}.marketing_data_output
  GROUP BY year, month
) marketing
INNER JOIN (
  SELECT year, month, sum(weighted_revenue) AS total_weighted_revenue
  FROM {{ params.database }}.sales_data_output
  GROUP BY year, month
) sales
ON marketing.year = sales.year AND marketing.month = sales.month
ORDER BY CAST(marketing.year AS integer) DESC, CAST(marketing.month AS integer) DESC
