CREATE EXTERNAL TABLE {{ params.database }}.sales_data_output(
  `date` string,
  salesperson string,
  lead_name string,
  segment string,
  region string,
  target_close string,
  forecasted_monthly_revenue int,
  opportunity_stage string,
  weighted_revenue int,
  closed_opportunity boolean,
  active_opportunity boolean,
  latest_status_entry boolean)
PARTITIONED BY (year string, month string, day string)
ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'
STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat'
LOCATION 's3://{{ params.transformed_bucket }}/sales/'
TBLPROPERTIES ('classification'='parquet', 'compressionType'='none', 'typeOfData'='file')
