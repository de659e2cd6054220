"""Asset kinds the AWS collector produces, shared by its parsers, the coverage classifier and the
rules."""

ACCOUNT = "aws.account"
REGION = "aws.bedrock.region"
APPLICATION_PROFILE = "aws.bedrock.application_profile"
PROVISIONED_THROUGHPUT = "aws.bedrock.provisioned_throughput"
CUSTOM_MODEL = "aws.bedrock.custom_model"
IMPORTED_MODEL = "aws.bedrock.imported_model"
AGENT = "aws.bedrock.agent"
MODEL_USAGE = "aws.bedrock.model_usage"
COST_ALLOCATION_TAG = "aws.cost_allocation_tag"

# Assets whose tags can reach the bill, so an owner tag on them matters for coverage.
TAGGED_BILLING_UNITS = frozenset({APPLICATION_PROFILE, PROVISIONED_THROUGHPUT})
