DROP TABLE IF EXISTS {{ params.database }}.sales_data_output
