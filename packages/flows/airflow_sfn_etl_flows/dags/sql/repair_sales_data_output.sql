MSCK REPAIR TABLE {{ params.database }}.sales_data_output
