// Runs the official OpenAI client library against `sealstream proxy` and prints what it got as one
// JSON object, for OpenAiClientLibraryTest to compare with the Java SDK's answers. Inputs come from
// the environment; nothing here knows it is not talking to OpenAI but the base URL.
import OpenAI from 'openai';

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

process.stdout.write(JSON.stringify(out) + '\n');
