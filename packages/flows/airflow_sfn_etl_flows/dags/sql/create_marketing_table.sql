CREATE EXTERNAL TABLE {{ params.database }}.marketing_data_output(
  `date` string,
  new_visitors_seo int,
  new_visitors_cpc int,
  new_visitors_social_media int,
  return_visitors int,
  twitter_mentions int,
  twitter_follower_adds int,
  twitter_followers_cumulative int,
  mailing_list_adds_ int,
  mailing_list_cumulative int,
  website_pageviews int,
  website_visits int,
  website_unique_visits int,
  mobile_uniques int,
  tablet_uniques int,
  desktop_uniques int,
  free_sign_up int,
  paid_conversion int,
  events string)
PARTITIONED BY (year string, month string, day string)
ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'
STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat'
LOCATION 's3://{{ params.transformed_bucket }}/marketing/'
TBLPROPERTIES ('classification'='parquet', 'compressionType'='none', 'typeOfData'='file')
