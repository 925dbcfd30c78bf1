DROP TABLE IF EXISTS {{ params.database }}.marketing_data_output
