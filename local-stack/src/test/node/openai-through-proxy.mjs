// Runs the official OpenAI client library against `sealstream proxy` and prints what it got as one
// JSON object, for OpenAiClientLibraryTest to compare with the Java SDK's answers. Inputs come from
// the environment; nothing here knows it is not talking to OpenAI but the base URL.
import OpenAI, { toFile } from 'openai';

const env = (name) => {
  const v = process.env[name];
  if (!v) {
    throw new Error(`${name} is not set`);
  }
  return v;
};

const client = new OpenAI({ baseURL: env('PROXY_BASE_URL'), apiKey: env('PROXY_TOKEN'), maxRetries: 0 });
const embeddingModel = env('EMBEDDING_MODEL');
const chatModel = env('CHAT_MODEL');
const text = env('EMBEDDING_TEXT');
const prompt = env('CHAT_PROMPT');

const out = {};

const models = await client.models.list();
out.models = models.data.map((m) => m.id);

const embedding = await client.embeddings.create({ model: embeddingModel, input: [text] });
out.embedding = embedding.data[0].embedding;
out.embeddingPromptTokens = embedding.usage.prompt_tokens;

const chat = await client.chat.completions.create({
  model: chatModel, messages: [{ role: 'user', content: prompt }], max_tokens: 16, temperature: 0,
});
out.chat = chat.choices[0].message.content;
out.chatFinishReason = chat.choices[0].finish_reason;

const stream = await client.chat.completions.create({
  model: chatModel, messages: [{ role: 'user', content: prompt }], max_tokens: 16, temperature: 0, stream: true,
});
let streamed = '';
let chunks = 0;
for await (const chunk of stream) {
  chunks += 1;
  streamed += chunk.choices[0]?.delta?.content ?? '';
}
out.streamed = streamed;
out.streamChunks = chunks;

try {
  await client.embeddings.create({ model: 'gpt-9', input: 'hello' });
  out.unknownModel = { status: 200 };
} catch (e) {
  out.unknownModel = { status: e.status, code: e.code, type: e.type, isNotFound: e instanceof OpenAI.NotFoundError };
}

const wrongKey = new OpenAI({ baseURL: env('PROXY_BASE_URL'), apiKey: 'not-the-proxy-token-at-all', maxRetries: 0 });
try {
  await wrongKey.models.list();
  out.wrongKey = { status: 200 };
} catch (e) {
  out.wrongKey = { status: e.status, code: e.code, isAuthentication: e instanceof OpenAI.AuthenticationError };
}

// the Batch API: upload a file, create a batch, wait for it, read its output
const lines = ['a', 'b'].map((id) => JSON.stringify({
  custom_id: id, method: 'POST', url: '/v1/embeddings', body: { model: embeddingModel, input: [text] },
})).join('\n') + '\n';
const uploaded = await client.files.create({ file: await toFile(Buffer.from(lines), 'in.jsonl'), purpose: 'batch' });
let batch = await client.batches.create({
  input_file_id: uploaded.id, endpoint: '/v1/embeddings', completion_window: '24h',
});
const deadline = Date.now() + 90_000;
while (!['completed', 'failed', 'cancelled', 'expired'].includes(batch.status) && Date.now() < deadline) {
  await new Promise((r) => setTimeout(r, 200));
  batch = await client.batches.retrieve(batch.id);
}
out.batchStatus = batch.status;
out.batchCounts = batch.request_counts;
if (batch.output_file_id) {
  const content = await (await client.files.content(batch.output_file_id)).text();
  out.batchOutput = content.trim().split('\n').map((l) => JSON.parse(l)).map((l) => ({
    custom_id: l.custom_id, status: l.response.status_code, embedding: l.response.body.data[0].embedding,
  }));
}

process.stdout.write(JSON.stringify(out) + '\n');
