"""Test data for user_template.yaml: a customer profile and a message already in the queue."""


def seed(session):
    session.client("dynamodb").put_item(
        TableName="lambda-trace-orders-dev",
        Item={"pk": {"S": "CUSTOMER#c-1"}, "sk": {"S": "PROFILE"}, "name": {"S": "Ada"}},
    )
    sqs = session.client("sqs")
    url = sqs.get_queue_url(QueueName="dev-fulfilment")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody='{"orderId": "o-seeded"}')
