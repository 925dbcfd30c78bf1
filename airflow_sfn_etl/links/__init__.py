"""Extra links from task instances to the AWS console."""
