DROP TABLE IF EXISTS {{ params.database }}.sales_marketing_revenue
