"""Attribute names of the dialects agentel speaks, each defined once here with its source.

The GenAI names are the OpenTelemetry semantic conventions' own: ``opentelemetry-semantic-conventions``
still ships them (deprecated in its ``gen_ai_attributes`` module, since the GenAI conventions moved to
the ``open-telemetry/semantic-conventions-genai`` repository) and tests/test_names.py checks every one
against it; written out here, they hold for older and future versions of that package alike.
"""

from __future__ import annotations

# agentel's own keys
AGENTEL_SPAN_TYPE = "agentel.span.type"
AGENTEL_TRUNCATED_INPUT_BYTES = "agentel.input.original_bytes"
AGENTEL_TRUNCATED_OUTPUT_BYTES = "agentel.output.original_bytes"
AGENTEL_TIME_TO_FIRST_ITEM_MS = "agentel.time_to_first_item_ms"
AGENTEL_ENDED_BY = "agentel.ended_by"
AGENTEL_MESSAGES_DROPPED = "agentel.messages_dropped"  # oldest messages left out to fit the budget
AGENTEL_DOCUMENTS_DROPPED = "agentel.documents_dropped"  # last documents left out to fit the budget
# The trace's token usage, summed over every span of the trace in this process, on its local root.
AGENTEL_TRACE_INPUT_TOKENS = "agentel.trace.usage.input_tokens"
AGENTEL_TRACE_OUTPUT_TOKENS = "agentel.trace.usage.output_tokens"
AGENTEL_TRACE_TOTAL_TOKENS = "agentel.trace.usage.total_tokens"
AGENTEL_TRACE_CACHE_READ_TOKENS = "agentel.trace.usage.cache_read.input_tokens"
AGENTEL_TRACE_REASONING_TOKENS = "agentel.trace.usage.reasoning.output_tokens"
AGENTEL_TRACE_USAGE_SPANS = "agentel.trace.usage.spans"
# On an agentel model span whose call another instrumentation's child span recorded (with usage): the
# child's span id. agentel then writes no usage of its own there, so the call is counted once.
AGENTEL_USAGE_RECORDED_BY = "agentel.usage.recorded_by"

# OpenTelemetry GenAI semantic conventions, v1.44.0 (development status; now maintained in
# github.com/open-telemetry/semantic-conventions-genai).
GEN_AI_OPERATION_NAME = "gen_ai.operation.name"
GEN_AI_PROVIDER_NAME = "gen_ai.provider.name"  # replaced gen_ai.system
GEN_AI_CONVERSATION_ID = "gen_ai.conversation.id"
GEN_AI_DATA_SOURCE_ID = "gen_ai.data_source.id"
GEN_AI_REQUEST_MODEL = "gen_ai.request.model"
GEN_AI_REQUEST_TEMPERATURE = "gen_ai.request.temperature"
GEN_AI_REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens"
GEN_AI_REQUEST_TOP_P = "gen_ai.request.top_p"
GEN_AI_REQUEST_STOP_SEQUENCES = "gen_ai.request.stop_sequences"
GEN_AI_RESPONSE_MODEL = "gen_ai.response.model"
GEN_AI_RESPONSE_ID = "gen_ai.response.id"
GEN_AI_RESPONSE_FINISH_REASONS = "gen_ai.response.finish_reasons"
GEN_AI_USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = "gen_ai.usage.cache_read.input_tokens"
GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS = "gen_ai.usage.cache_creation.input_tokens"
GEN_AI_USAGE_REASONING_OUTPUT_TOKENS = "gen_ai.usage.reasoning.output_tokens"
# JSON-encoded (the "any" attributes recorded as a JSON string, which the spec allows on spans)
GEN_AI_INPUT_MESSAGES = "gen_ai.input.messages"
GEN_AI_OUTPUT_MESSAGES = "gen_ai.output.messages"
GEN_AI_SYSTEM_INSTRUCTIONS = "gen_ai.system_instructions"
GEN_AI_TOOL_NAME = "gen_ai.tool.name"
GEN_AI_TOOL_DESCRIPTION = "gen_ai.tool.description"
GEN_AI_TOOL_CALL_ID = "gen_ai.tool.call.id"
GEN_AI_TOOL_CALL_ARGUMENTS = "gen_ai.tool.call.arguments"
GEN_AI_TOOL_CALL_RESULT = "gen_ai.tool.call.result"
GEN_AI_AGENT_NAME = "gen_ai.agent.name"
GEN_AI_AGENT_ID = "gen_ai.agent.id"
GEN_AI_AGENT_DESCRIPTION = "gen_ai.agent.description"
GEN_AI_RETRIEVAL_DOCUMENTS = "gen_ai.retrieval.documents"
GEN_AI_RETRIEVAL_QUERY_TEXT = "gen_ai.retrieval.query.text"
GEN_AI_EMBEDDINGS_DIMENSION_COUNT = "gen_ai.embeddings.dimension.count"

# OpenInference semantic conventions (Arize; openinference-semantic-conventions 0.1.x, checked against
# 0.1.42, the version Phoenix 20.26 reads). Indexed keys are built from the prefixes and suffixes below:
# llm.input_messages.<i>.message.role, ...message.tool_calls.<j>.tool_call.function.name, and so on.
OPENINFERENCE_SPAN_KIND = "openinference.span.kind"
INPUT_VALUE = "input.value"
INPUT_MIME_TYPE = "input.mime_type"
OUTPUT_VALUE = "output.value"
OUTPUT_MIME_TYPE = "output.mime_type"
SESSION_ID = "session.id"
USER_ID = "user.id"
METADATA = "metadata"
TAG_TAGS = "tag.tags"
JSON_MIME = "application/json"
LLM_MODEL_NAME = "llm.model_name"
LLM_PROVIDER = "llm.provider"
LLM_INVOCATION_PARAMETERS = "llm.invocation_parameters"
LLM_FINISH_REASON = "llm.finish_reason"
LLM_TOKEN_COUNT_PROMPT = "llm.token_count.prompt"
LLM_TOKEN_COUNT_COMPLETION = "llm.token_count.completion"
LLM_TOKEN_COUNT_TOTAL = "llm.token_count.total"
LLM_TOKEN_COUNT_CACHE_READ = "llm.token_count.prompt_details.cache_read"
LLM_TOKEN_COUNT_CACHE_WRITE = "llm.token_count.prompt_details.cache_write"
LLM_TOKEN_COUNT_REASONING = "llm.token_count.completion_details.reasoning"
LLM_COST_PROMPT = "llm.cost.prompt"  # USD; Phoenix sums the cost keys per trace
LLM_COST_COMPLETION = "llm.cost.completion"
LLM_COST_TOTAL = "llm.cost.total"
LLM_INPUT_MESSAGES = "llm.input_messages"
LLM_OUTPUT_MESSAGES = "llm.output_messages"
MESSAGE_ROLE = "message.role"
MESSAGE_CONTENT = "message.content"
MESSAGE_CONTENTS = "message.contents"
MESSAGE_NAME = "message.name"
MESSAGE_TOOL_CALLS = "message.tool_calls"
MESSAGE_TOOL_CALL_ID = "message.tool_call_id"
MESSAGE_CONTENT_TYPE = "message_content.type"
MESSAGE_CONTENT_TEXT = "message_content.text"
MESSAGE_CONTENT_IMAGE_URL = "message_content.image.image.url"
TOOL_CALL_ID = "tool_call.id"
TOOL_CALL_FUNCTION_NAME = "tool_call.function.name"
TOOL_CALL_FUNCTION_ARGUMENTS = "tool_call.function.arguments"
TOOL_NAME = "tool.name"
TOOL_DESCRIPTION = "tool.description"
TOOL_PARAMETERS = "tool.parameters"
TOOL_ID = "tool.id"
RETRIEVAL_DOCUMENTS = "retrieval.documents"
DOCUMENT_ID = "document.id"
DOCUMENT_CONTENT = "document.content"
DOCUMENT_SCORE = "document.score"
DOCUMENT_METADATA = "document.metadata"
EMBEDDING_MODEL_NAME = "embedding.model_name"
EMBEDDING_EMBEDDINGS = "embedding.embeddings"
EMBEDDING_TEXT = "embedding.text"
EMBEDDING_VECTOR = "embedding.vector"
AGENT_NAME = "agent.name"

# MLflow's own span attribute keys (MLflow 2.13+ / 3.x, mlflow.tracing.constant.SpanAttributeKey);
# values are JSON-encoded.
MLFLOW_SPAN_TYPE = "mlflow.spanType"
MLFLOW_SPAN_INPUTS = "mlflow.spanInputs"
MLFLOW_SPAN_OUTPUTS = "mlflow.spanOutputs"
MLFLOW_SPAN_FUNCTION_NAME = "mlflow.spanFunctionName"  # JSON text, like MLflow's other span attributes
MLFLOW_CHUNK_EVENT = "mlflow.chunk.item.{index}"  # one event per item a traced generator yields
MLFLOW_CHUNK_VALUE = "mlflow.chunk.value"
MLFLOW_CHAT_USAGE = "mlflow.chat.tokenUsage"
MLFLOW_LLM_MODEL = "mlflow.llm.model"
MLFLOW_LLM_PROVIDER = "mlflow.llm.provider"
