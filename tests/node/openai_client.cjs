// The official `openai` npm client against `moeinfer serve` on the shipped model (127.0.0.1, a
// free port): models, chat completions streamed and not, completions; at temperature 0 the
// completion text equals `moeinfer generate --greedy` on the same prompt, and streamed answers
// equal whole ones.
//   node tests/node/openai_client.cjs MOEINFER_BIN MODEL CHAT_TEMPLATE   (NODE_PATH: node_modules with openai)
'use strict';
const { spawn, spawnSync } = require('child_process');
const assert = require('assert');
let OpenAI;
try {
  OpenAI = require('openai');
} catch (e) {
  console.error('the openai package is missing: npm install --prefix DIR openai@4.104.0, then NODE_PATH=DIR/node_modules');
  process.exit(1);
}
const [bin, model, template] = process.argv.slice(2);

function startServer() {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, ['serve', '-m', model, '--port', '0', '-t', '1', '--chat-template', template, '--alias', 'tiny'],
                    { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    const timer = setTimeout(() => reject(new Error('server did not start in 60 s: ' + log)), 60000);
    p.stderr.on('data', (d) => {
      log += d.toString();
      const m = log.match(/at http:\/\/127\.0\.0\.1:(\d+)/);
      if (m) { clearTimeout(timer); resolve({ proc: p, port: Number(m[1]) }); }
    });
    p.on('exit', (code) => { clearTimeout(timer); reject(new Error('server exited ' + code + ': ' + log)); });
  });
}

function generateGreedy(args) {
  const r = spawnSync(bin, ['generate', '-m', model, ...args, '--greedy'], { encoding: 'utf8', timeout: 60000 });
  assert.strictEqual(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

async function main() {
  const { proc, port } = await startServer();
  let failed = false;
  try {
    const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'unused', timeout: 60000, maxRetries: 0 });
    const models = await client.models.list();
    assert.strictEqual(models.data[0].id, 'tiny');

    for (const prompt of ['Once upon a time', 'The little dog']) {
      const c = await client.completions.create({ model: 'tiny', prompt, max_tokens: 24, temperature: 0 });
      const ref = generateGreedy(['--text', prompt, '-n', '24']);
      assert.strictEqual(c.choices[0].text, ref.text, 'completion of ' + JSON.stringify(prompt));
      assert.strictEqual(c.usage.completion_tokens, 24);
    }

    const messages = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Tell me a story.' }];
    const chat = await client.chat.completions.create({ model: 'tiny', messages, max_tokens: 20, temperature: 0 });
    const answer = chat.choices[0].message.content;
    assert.strictEqual(chat.choices[0].message.role, 'assistant');
    assert.ok(answer.length > 0, 'empty chat answer');

    const stream = await client.chat.completions.create({ model: 'tiny', messages, max_tokens: 20, temperature: 0, stream: true,
                                                          stream_options: { include_usage: true } });
    let streamed = '', finish = null, usage = null;
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      if (chunk.choices.length === 0) continue;
      streamed += chunk.choices[0].delta.content || '';
      if (chunk.choices[0].finish_reason) finish = chunk.choices[0].finish_reason;
    }
    assert.strictEqual(streamed, answer, 'streamed chat differs from the whole answer');
    assert.strictEqual(finish, chat.choices[0].finish_reason);
    assert.deepStrictEqual(usage, chat.usage);

    const cs = await client.completions.create({ model: 'tiny', prompt: 'Once upon a time', max_tokens: 16, temperature: 0, stream: true });
    let text = '';
    for await (const chunk of cs) text += chunk.choices[0].text;
    assert.strictEqual(text, generateGreedy(['--text', 'Once upon a time', '-n', '16']).text);

    let status = 0;
    try {
      await client.chat.completions.create({ model: 'tiny', messages: [], max_tokens: 2 });
    } catch (e) {
      status = e.status;
    }
    assert.strictEqual(status, 400, 'an empty message list is a 400');
    console.log('openai client: all checks passed');
  } catch (e) {
    failed = true;
    console.error(e);
  } finally {
    proc.kill('SIGTERM');
  }
  const code = await new Promise((resolve) => {
    const t = setTimeout(() => { proc.kill('SIGKILL'); resolve(-1); }, 30000);
    proc.on('exit', (c) => { clearTimeout(t); resolve(c); });
  });
  if (code !== 0) { console.error('server exit status ' + code); failed = true; }
  process.exit(failed ? 1 : 0);
}
main();
