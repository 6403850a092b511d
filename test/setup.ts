process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.UPSHIFT_TABLE_NAME ??= 'upshift-test';
process.env.UPSHIFT_EVENT_BUS_NAME ??= 'upshift-test';
process.env.UPSHIFT_LOG_LEVEL ??= 'silent';
process.env.AWS_REGION ??= 'us-east-1';
