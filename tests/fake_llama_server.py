#!/usr/bin/env python3
"""A stand-in for llama.cpp's llama-server, for tests/LlamaServer.Tests.ps1.

Started as llama-server is (-m MODEL ... --host HOST --port PORT). Each start writes
$FAKE_LLAMA_RECORD/start-<pid>.json: its argv (without the program), the GPU variables of its environment, its
parent pid and the time. It prints a few log lines, then serves HTTP on HOST:PORT: GET /health answers 503
"Loading model" until $FAKE_LLAMA_HEALTH_DELAY seconds have passed, then 200 {"status":"ok"}; POST
/v1/chat/completions answers "fake llama-server on port PORT" (streamed as server-sent events when asked).
What it does is read at start from the file $FAKE_LLAMA_CONTROL (absent: "ok"):
  ok             as above
  crash          prints "fatal: fake failure" and exits with code 7 at once
  never-healthy  /health answers 503 forever
  ignore-term    ignores SIGTERM (only SIGKILL stops it)
"""
import http.server, json, os, signal, sys, time

argv = sys.argv[1:]
record = os.environ.get('FAKE_LLAMA_RECORD')
control = os.environ.get('FAKE_LLAMA_CONTROL')
mode = 'ok'
if control and os.path.exists(control):
    with open(control, encoding='utf-8') as f:
        mode = f.read().strip() or 'ok'
delay = float(os.environ.get('FAKE_LLAMA_HEALTH_DELAY', '0'))
def last(option, default):
    # llama-server's parser lets a later option win, so the stand-in does too.
    places = [i for i, a in enumerate(argv[:-1]) if a == option]
    return argv[places[-1] + 1] if places else default


host = last('--host', '127.0.0.1')
port = int(last('--port', '8080'))
started = time.monotonic()

if record:
    entry = {'pid': os.getpid(), 'ppid': os.getppid(), 'time': time.time(), 'mode': mode, 'argv': argv,
             'env': {k: v for k, v in os.environ.items() if k.startswith('CUDA_') or k.startswith('FAKE_')}}
    path = os.path.join(record, 'start-%d.json' % os.getpid())
    with open(path + '.tmp', 'w', encoding='utf-8') as f:
        json.dump(entry, f)
    os.rename(path + '.tmp', path)

print('fake llama-server: build 0 (stand-in), mode %s' % mode, flush=True)
print('fake llama-server: loading model %s' % (argv[argv.index('-m') + 1] if '-m' in argv else '?'), file=sys.stderr, flush=True)
if mode == 'crash':
    print('fatal: fake failure', file=sys.stderr, flush=True)
    sys.exit(7)
if mode == 'ignore-term':
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def send(self, status, payload, content_type='application/json'):
        data = payload.encode('utf-8')
        self.send_response(status)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path != '/health':
            return self.send(404, json.dumps({'error': {'message': 'File Not Found'}}))
        if mode == 'never-healthy' or time.monotonic() - started < delay:
            return self.send(503, json.dumps({'error': {'code': 503, 'message': 'Loading model', 'type': 'unavailable_error'}}))
        self.send(200, json.dumps({'status': 'ok'}))

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get('Content-Length', '0'))).decode('utf-8'))
        if record:
            with open(os.path.join(record, 'requests.jsonl'), 'a', encoding='utf-8') as f:
                f.write(json.dumps({'pid': os.getpid(), 'path': self.path, 'body': body}) + '\n')
        text = 'fake llama-server on port %d' % port
        if body.get('stream'):
            chunks = [{'choices': [{'index': 0, 'delta': {'content': text}}]},
                      {'choices': [], 'usage': {'prompt_tokens': 5, 'completion_tokens': 6}}]
            payload = ''.join('data: ' + json.dumps(c) + '\n\n' for c in chunks) + 'data: [DONE]\n\n'
            return self.send(200, payload, 'text/event-stream')
        self.send(200, json.dumps({'choices': [{'index': 0, 'message': {'role': 'assistant', 'content': text}}],
                                   'usage': {'prompt_tokens': 5, 'completion_tokens': 6}}))


http.server.ThreadingHTTPServer((host, port), Handler).serve_forever()
