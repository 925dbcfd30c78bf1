"""Create what first_dag.py uses: a bucket with a small CSV, a Glue database and crawler, an SNS topic."""

import boto3

BUCKET, DATABASE, CRAWLER, TOPIC = "my-first-dag", "first_dag", "first_dag_orders", "first-dag-totals"
ORDERS = """order_id,region,amount
1,north,120.50
2,south,75.00
3,north,19.99
4,east,250.00
5,south,42.25
6,north,8.75
"""

s3 = boto3.client("s3")
s3.create_bucket(Bucket=BUCKET)
s3.put_object(Bucket=BUCKET, Key="orders/orders.csv", Body=ORDERS.encode())

glue = boto3.client("glue")
glue.create_database(DatabaseInput={"Name": DATABASE})
glue.create_crawler(
    Name=CRAWLER,
    Role="arn:aws:iam::123456789012:role/first-dag-crawler",  # on AWS: a role Glue can assume
    DatabaseName=DATABASE,
    Targets={"S3Targets": [{"Path": f"s3://{BUCKET}/orders/"}]},
)

boto3.client("sns").create_topic(Name=TOPIC)
