// The fanout benchmark's Node.js arm: what a team would write without this project. kafkajs consumes every
// partition of an ordered topic (lz4 through kafkajs-lz4, read_committed, fetch wait 20 ms as the node's feed) and
// ws pushes each record, as the same pre-rendered frame the bare Vert.x server sends, to the sockets of the user its
// key names (the user taken unverified from the token's sub).
//
//   node --expose-gc server.js <bootstrap> <topic> <group> <frame-before-time> <frame-after-time>
//
// stdout: "LISTENING <port>", then "READY" once the consumer has its partitions, then "DELIVERED <n>" every 50 ms
// while the count moves. stdin: "MEMORY" answers one JSON line {heapUsed, rss} after a GC; "EXIT" stops.
'use strict';
const { Kafka, CompressionTypes, CompressionCodecs, logLevel } = require('kafkajs');
const LZ4Codec = require('kafkajs-lz4');
const { WebSocketServer } = require('ws');
const readline = require('readline');

CompressionCodecs[CompressionTypes.LZ4] = new LZ4Codec().codec;
const [bootstrap, topic, group, beforeTime, afterTime] = process.argv.slice(2);

const byUser = new Map();
let delivered = 0;

function userOf(url) {
  const token = new URL(url, 'http://x').searchParams.get('access_token');
  if (!token) return null;
  try {
    return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')).sub || null;
  } catch (e) {
    return null;
  }
}

const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
server.on('connection', (socket, request) => {
  const user = userOf(request.url);
  if (!user) {
    socket.close(4401, 'no token');
    return;
  }
  let sockets = byUser.get(user);
  if (!sockets) byUser.set(user, (sockets = new Set()));
  sockets.add(socket);
  socket.on('close', () => {
    sockets.delete(socket);
    if (sockets.size === 0) byUser.delete(user);
  });
  socket.on('error', () => {});
  socket.send(JSON.stringify({ type: 'welcome', userId: user }));
});

server.on('listening', async () => {
  console.log('LISTENING ' + server.address().port);
  const kafka = new Kafka({ clientId: group, brokers: [bootstrap], logLevel: logLevel.ERROR });
  const consumer = kafka.consumer({ groupId: group, maxWaitTimeInMs: 500, readUncommitted: false });
  consumer.on(consumer.events.GROUP_JOIN, () => console.log('READY'));
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: false });
  await consumer.run({
    partitionsConsumedConcurrently: 1,
    eachBatch: async ({ batch }) => {
      for (const message of batch.messages) {
        const sockets = byUser.get(message.key.toString('utf8'));
        if (!sockets) continue;
        const frame = '{"type":"event","pos":"' + batch.partition + ':' + message.offset + '","event":' + beforeTime
          + message.timestamp + afterTime;
        for (const socket of sockets) {
          socket.send(frame);
          delivered++;
        }
      }
    },
  });
  let reported = -1;
  setInterval(() => {
    if (delivered !== reported) {
      reported = delivered;
      console.log('DELIVERED ' + delivered);
    }
  }, 50);
  readline.createInterface({ input: process.stdin }).on('line', async (line) => {
    if (line === 'MEMORY') {
      global.gc();
      const usage = process.memoryUsage();
      console.log(JSON.stringify({ heapUsed: usage.heapUsed, rss: usage.rss }));
    } else if (line === 'EXIT') {
      await consumer.disconnect().catch(() => {});
      process.exit(0);
    }
  });
});
