// Cross-language interop: AgentEvents through the embedded broker and registry with npm's kafkajs and
// @kafkajs/confluent-schema-registry, driven by the Java test CrossLanguageInteropTest.
//
//   node interop.js produce <brokers> <registryUrl> <topic> <schema.avsc> <event.json>
//     registers the schema under <topic>-value, encodes the event and produces it keyed by its userId;
//     prints {"id": <schema id>, "partition": p, "offset": o}
//   node interop.js consume <brokers> <registryUrl> <topic> <count>
//     reads <count> records from the beginning and prints each decoded value as one JSON line
'use strict';
const fs = require('fs');
const { Kafka, logLevel } = require('kafkajs');
const { SchemaRegistry, SchemaType } = require('@kafkajs/confluent-schema-registry');

async function produce(brokers, registryUrl, topic, schemaFile, eventFile) {
  const registry = new SchemaRegistry({ host: registryUrl });
  const { id } = await registry.register(
    { type: SchemaType.AVRO, schema: fs.readFileSync(schemaFile, 'utf8') },
    { subject: `${topic}-value` });
  const event = JSON.parse(fs.readFileSync(eventFile, 'utf8'));
  const value = await registry.encode(id, event);
  const kafka = new Kafka({ clientId: 'interop-node', brokers: brokers.split(','), logLevel: logLevel.ERROR });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const [meta] = await producer.send({ topic, acks: -1, messages: [{ key: event.userId, value }] });
  await producer.disconnect();
  console.log(JSON.stringify({ id, partition: meta.partition, offset: meta.baseOffset }));
}

async function consume(brokers, registryUrl, topic, count) {
  const registry = new SchemaRegistry({ host: registryUrl });
  const kafka = new Kafka({ clientId: 'interop-node', brokers: brokers.split(','), logLevel: logLevel.ERROR });
  const consumer = kafka.consumer({ groupId: `interop-${process.pid}-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${seen} of ${count} records within 30 s`)), 30000);
    consumer.run({
      eachMessage: async ({ message }) => {
        const decoded = await registry.decode(message.value);
        console.log(JSON.stringify({ key: message.key.toString(), value: decoded },
          (k, v) => (typeof v === 'bigint' ? Number(v) : v)));
        seen += 1;
        if (seen >= count) {
          clearTimeout(timer);
          resolve();
        }
      },
    }).catch(reject);
  });
  await consumer.disconnect();
}

const [mode, ...args] = process.argv.slice(2);
const run = mode === 'produce' ? produce(...args) : mode === 'consume' ? consume(args[0], args[1], args[2], Number(args[3]))
  : Promise.reject(new Error(`unknown mode '${mode}': use produce or consume`));
run.then(() => process.exit(0), (err) => { console.error(err && err.stack ? err.stack : err); process.exit(1); });
