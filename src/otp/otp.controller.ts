import { Body, Controller, Get, HttpCode, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiKeyGuard, type AuthenticatedRequest } from '../common/auth/api-key.guard.js';
import { ApiException } from '../common/errors/api.exception.js';
import { ApiErrors } from '../openapi/api-errors.decorator.js';
import { BEARER_AUTH } from '../openapi/openapi.js';
import { OtpStatusResponse } from './dto/otp-status.response.js';
import { SendOtpResponse } from './dto/send-otp.response.js';
import { VerifyOtpResponse } from './dto/verify-otp.response.js';
import { SendOtpDto } from './dto/send-otp.dto.js';
import { VerifyOtpDto } from './dto/verify-otp.dto.js';
import { IdempotencyService } from './idempotency.service.js';
import { OtpStatusService } from './otp-status.service.js';
import { OtpService } from './otp.service.js';
import { ThrottleSend, ThrottleVerify } from '../throttling/throttle.decorators.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

@ApiTags('otp')
@ApiBearerAuth(BEARER_AUTH)
@Controller('v1/otp')
@UseGuards(ApiKeyGuard)
export class OtpController {
  constructor(
    private readonly otp: OtpService,
    private readonly status: OtpStatusService,
    private readonly idempotency: IdempotencyService,
  ) {}

  /** Issue a code and queue its delivery. 202 = accepted for delivery, not delivered. */
  @Post('send')
  @HttpCode(202)
  @ThrottleSend()
  @ApiOperation({
    summary: 'Issue a code and queue its delivery over WhatsApp',
    description:
      '202 means accepted for delivery, not delivered. A new code for the same phone and purpose cancels the previous unused one.',
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      'Up to 255 visible ASCII characters. Same key + same body within 24 h replays the first answer (header `Idempotent-Replayed: true`) and sends nothing; same key + other body is 422; a retry while the first is in flight is 409.',
    schema: { type: 'string', maxLength: 255, example: 'signup-7f3a9c' },
  })
  @ApiAcceptedResponse({
    type: SendOtpResponse,
    description: 'Accepted for delivery',
    headers: {
      'Idempotent-Replayed': {
        description: '`true` when this is a replayed answer',
        schema: { type: 'string' },
      },
    },
  })
  @ApiErrors([
    'invalid_request',
    'invalid_phone',
    'unauthorized',
    'country_not_allowed',
    'idempotency_in_progress',
    'payload_too_large',
    'unsupported_media_type',
    'idempotency_key_reused',
    'rate_limited',
    'resend_cooldown',
    'too_many_failures',
    'internal_error',
    'service_unavailable',
  ])
  async send(
    @Body() dto: SendOtpDto,
    @Req() req: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const client = req.client as string;
    // Read from the request, not with @Headers('idempotency-key'): that decorator documents a
    // second, required header next to the optional @ApiHeader above.
    const header = req.headers['idempotency-key'];
    const idempotencyKey = Array.isArray(header) ? header.join(',') : header;
    const issue = () =>
      this.otp.issue({
        phone: dto.phone,
        defaultCountry: dto.defaultCountry,
        purpose: dto.purpose,
        locale: dto.locale,
        client,
      });
    if (idempotencyKey === undefined) return issue();

    if (!IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new ApiException('invalid_request', 'Idempotency-Key must be 1-255 visible ASCII characters', {
        details: { 'Idempotency-Key': 'must be 1-255 visible ASCII characters' },
      });
    }
    const claim = await this.idempotency.claim(client, idempotencyKey, IdempotencyService.fingerprint(dto));
    if (claim.kind === 'replay') {
      void reply.status(claim.status).header('idempotent-replayed', 'true');
      return claim.body;
    }
    try {
      const response = await issue();
      await this.idempotency.complete(client, idempotencyKey, 202, response);
      return response;
    } catch (error) {
      await this.idempotency.release(client, idempotencyKey).catch(() => undefined);
      throw error;
    }
  }

  /** Check a code typed by the user. */
  @Post('verify')
  @HttpCode(200)
  @ThrottleVerify()
  @ApiOperation({
    summary: 'Check a code typed by the user',
    description:
      'A code verifies at most once, even under concurrent requests; failures carry `verified: false`.',
  })
  @ApiOkResponse({ type: VerifyOtpResponse, description: 'The code was right; it is now used' })
  @ApiErrors(
    [
      'invalid_request',
      'invalid_phone',
      'invalid_code',
      'expired',
      'not_found',
      'unauthorized',
      'payload_too_large',
      'unsupported_media_type',
      'max_attempts_reached',
      'rate_limited',
      'too_many_failures',
      'internal_error',
      'service_unavailable',
    ],
    { verify: true },
  )
  verify(@Body() dto: VerifyOtpDto) {
    return this.otp.verify({
      phone: dto.phone,
      code: dto.code,
      purpose: dto.purpose,
      defaultCountry: dto.defaultCountry,
    });
  }

  /** State of one verification (only the client that created it may read it). */
  @Get(':id')
  @ApiOperation({ summary: 'State of one verification: verification status, delivery status and attempts' })
  @ApiParam({ name: 'id', description: 'The id returned by send', format: 'uuid' })
  @ApiOkResponse({ type: OtpStatusResponse })
  @ApiErrors(['unauthorized', 'not_found', 'internal_error', 'service_unavailable'])
  async get(@Param('id') id: string, @Req() req: AuthenticatedRequest) {
    const view = UUID.test(id) ? await this.status.view(id, req.client as string) : undefined;
    if (!view) throw new ApiException('not_found', 'No verification with this id');
    return view;
  }
}
