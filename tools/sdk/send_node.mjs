// Sends calls to tend serve with Segment's official Node SDK (@segment/analytics-node),
// for tools/sdk_clients.sh. Environment as for send_python.py.
import { Analytics } from '@segment/analytics-node'

const url = process.env.TEND_URL
const writeKey = process.env.TEND_WRITE_KEY
const accounts = process.env.TEND_ACCOUNTS.split(',')
const prefix = process.env.TEND_PREFIX
const errors = []

function client () {
  const analytics = new Analytics({ writeKey, host: url, maxRetries: 3, flushInterval: 200 })
  analytics.on('error', (error) => errors.push(error))
  return analytics
}

function tracks (analytics, first, last) {
  for (let i = first; i < last; i++) {
    analytics.track({
      userId: `${prefix}-u${i % 10}`,
      event: 'Report Run',
      properties: { rows: i },
      context: { groupId: accounts[i % accounts.length] },
      messageId: `${prefix}-m${i}`
    })
  }
}

const analytics = client()
tracks(analytics, 0, 200)
// A user no account is known for yet: kept, then attached by the group call.
for (let i = 0; i < 5; i++) {
  analytics.track({ userId: `${prefix}-late`, event: 'Report Run', properties: { rows: i }, messageId: `${prefix}-late-${i}` })
}
await analytics.flush()
analytics.group({ userId: `${prefix}-late`, groupId: accounts[0], traits: { name: 'ignored' }, messageId: `${prefix}-group` })
analytics.identify({ userId: `${prefix}-late`, traits: { plan: 'pro' }, messageId: `${prefix}-identify` })
await analytics.closeAndFlush()
// A retry of calls already sent, with their messageIds, from a client of its own.
const retry = client()
tracks(retry, 0, 50)
await retry.closeAndFlush()
if (errors.length > 0) {
  console.error('the SDK reported errors:', errors)
  process.exit(1)
}
console.log('node: sent 257 calls, 50 of them twice')
