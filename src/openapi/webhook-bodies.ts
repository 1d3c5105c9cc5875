import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiOkResponse } from '@nestjs/swagger';
import type { ErrorCode } from '../common/index.js';
import { ApiErrors } from './api-errors.decorator.js';

/**
 * Request bodies of the provider callbacks, as documentation: the fields this service reads
 * (src/webhooks/*-events.ts); every other field is accepted and ignored, so the schemas stay open.
 * The signature is over the raw bytes, so the body is never re-serialised.
 */
export const SINCH_CALLBACK_SCHEMA = {
  type: 'object',
  additionalProperties: true,
  description:
    'A Sinch Conversation API callback. `message_delivery_report` moves the code’s delivery status; `message` (inbound) records the 24 h window and STOP/START; other triggers are acknowledged and ignored.',
  properties: {
    app_id: { type: 'string' },
    project_id: { type: 'string' },
    accepted_time: { type: 'string', format: 'date-time' },
    event_time: { type: 'string', format: 'date-time' },
    message_metadata: { type: 'string', description: 'The code id this service attached when sending' },
    message_delivery_report: {
      type: 'object',
      additionalProperties: true,
      properties: {
        message_id: { type: 'string' },
        conversation_id: { type: 'string' },
        status: {
          type: 'string',
          description: 'QUEUED_ON_CHANNEL, DELIVERED, READ, FAILED, SWITCHING_CHANNEL',
        },
        reason: {
          type: 'object',
          additionalProperties: true,
          properties: { code: { type: 'string' }, description: { type: 'string' } },
        },
        metadata: { type: 'string' },
      },
    },
    message: { type: 'object', additionalProperties: true, description: 'An inbound message' },
  },
  example: {
    app_id: '01EB5K0P8ZPQ0X1Y2Z3A4B5C6D',
    accepted_time: '2026-01-01T12:00:01.000Z',
    event_time: '2026-01-01T12:00:00.900Z',
    message_delivery_report: {
      message_id: '01EB5K7N9M2R4S6T8V0W2X4Y6Z',
      status: 'DELIVERED',
      metadata: '0b9f3c2e-7d1a-4f8e-9a51-2c6f0d3e4b7a',
    },
  },
};

export const ENOSEND_CALLBACK_SCHEMA = {
  type: 'object',
  additionalProperties: true,
  description:
    'An EnoSend callback. `instance.state` is stored (the router skips EnoSend unless connected); other events are acknowledged and ignored.',
  properties: {
    event: { type: 'string', example: 'instance.state' },
    instance_id: { type: 'string' },
    state: { type: 'string', example: 'connected' },
    timestamp: {
      description: 'Unix seconds or milliseconds, or an ISO date',
      oneOf: [{ type: 'number' }, { type: 'string' }],
    },
  },
  example: { event: 'instance.state', instance_id: 'inst_123', state: 'connected', timestamp: 1767268800 },
};

export const META_CALLBACK_SCHEMA = {
  type: 'object',
  additionalProperties: true,
  description:
    'A WhatsApp Cloud API (Meta) callback, up to 1 MiB: `statuses` move codes’ delivery status, inbound `messages` record the 24 h window and STOP/START; everything else is acknowledged and ignored.',
  required: ['object', 'entry'],
  properties: {
    object: { type: 'string', example: 'whatsapp_business_account' },
    entry: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: true,
        properties: {
          id: { type: 'string' },
          changes: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: true,
              properties: {
                field: { type: 'string', example: 'messages' },
                value: {
                  type: 'object',
                  additionalProperties: true,
                  properties: {
                    metadata: { type: 'object', additionalProperties: true },
                    statuses: {
                      type: 'array',
                      items: {
                        type: 'object',
                        additionalProperties: true,
                        properties: {
                          id: { type: 'string', description: 'The wamid of the message' },
                          status: { type: 'string', description: 'sent, delivered, read, failed' },
                          timestamp: { type: 'string' },
                          errors: { type: 'array', items: { type: 'object', additionalProperties: true } },
                        },
                      },
                    },
                    messages: { type: 'array', items: { type: 'object', additionalProperties: true } },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
  example: {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: [
          {
            field: 'messages',
            value: {
              metadata: { phone_number_id: '106540352242922' },
              statuses: [
                { id: 'wamid.HBgLMjMzMjQxMjM0NTY3FQIAERgSQ0Q', status: 'delivered', timestamp: '1767268800' },
              ],
            },
          },
        ],
      },
    ],
  },
};

/** What every signed callback can answer besides its 200. */
export const WEBHOOK_ERRORS: ErrorCode[] = [
  'invalid_request',
  'invalid_signature',
  'payload_too_large',
  'unsupported_media_type',
  'internal_error',
  'service_unavailable',
];

/** Body, 200 acknowledgement and errors of one signed provider callback. */
export function ApiWebhook(schema: Record<string, unknown>): MethodDecorator {
  return applyDecorators(
    ApiBody({ required: true, schema }),
    ApiOkResponse({
      description: 'Verified (also for ignored event types)',
      schema: {
        type: 'object',
        required: ['received'],
        properties: { received: { type: 'boolean', enum: [true] } },
        example: { received: true },
      },
    }),
    ApiErrors(WEBHOOK_ERRORS),
  ) as MethodDecorator;
}
