MSCK REPAIR TABLE {{ params.database }}.marketing_data_output
