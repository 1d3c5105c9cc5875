import { Body, Controller, Get, HttpCode, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
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
import { ApiKeyGuard, type AuthenticatedRequest } from '../auth/index.js';
import { DomainError, type ErrorAnswersRouteConfig, type NormalisedPhone } from '../common/index.js';
import { ApiErrors, BEARER_AUTH } from '../openapi/index.js';
import { OtpStatusResponse } from './dto/otp-status.response.js';
import { SendOtpResponse } from './dto/send-otp.response.js';
import { VerifyOtpResponse } from './dto/verify-otp.response.js';
import { SendOtpDto } from './dto/send-otp.dto.js';
import { VerifyOtpDto } from './dto/verify-otp.dto.js';
import { IdempotencyService } from './idempotency.service.js';
import { OtpStatusService } from './otp-status.service.js';
import { OtpService } from './otp.service.js';
import { RequestLimits } from '../throttling/index.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
/** Verify outcomes that count toward the per-IP limit (API.md A2 clarification); others refund it. */
const COUNTED_VERIFY_OUTCOMES = new Set(['invalid_code', 'not_found', 'expired', 'max_attempts_reached']);

@ApiTags('otp')
@ApiBearerAuth(BEARER_AUTH)
@Controller('v1/otp')
@UseGuards(ApiKeyGuard)
export class OtpController {
  constructor(
    private readonly otp: OtpService,
    private readonly status: OtpStatusService,
    private readonly idempotency: IdempotencyService,
    private readonly limits: RequestLimits,
  ) {}

  /** Issue a code and queue its delivery. 202 = accepted for delivery, not delivered. */
  @Post('send')
  @HttpCode(202)
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
    // Decision 4: authentication (guard) → content type → validation (pipe, then the phone and the
    // key here) → idempotency → per-IP limits and caps → per-phone limits (in the issuing statement).
    const client = req.client as string;
    const idempotencyKey = req.headers['idempotency-key'];
    if (
      idempotencyKey !== undefined &&
      (typeof idempotencyKey !== 'string' || !IDEMPOTENCY_KEY.test(idempotencyKey))
    ) {
      throw new DomainError('invalid_request', {
        message: 'idempotencyKey',
        details: { 'Idempotency-Key': 'must be 1-255 visible ASCII characters' },
      });
    }
    const phone = this.otp.normalised(dto.phone, dto.defaultCountry);
    if (idempotencyKey === undefined) return this.issueWithinLimits(req, phone, dto);

    // A replay is answered here, before any limit counts anything (finding 10).
    const claim = await this.idempotency.claim(client, idempotencyKey, IdempotencyService.fingerprint(dto));
    if (claim.kind === 'replay') {
      void reply.status(claim.status).header('idempotent-replayed', 'true');
      return claim.body;
    }
    try {
      const response = await this.issueWithinLimits(req, phone, dto);
      await this.idempotency.complete(client, idempotencyKey, 202, response);
      return response;
    } catch (error) {
      await this.idempotency.release(client, idempotencyKey).catch(() => undefined);
      throw error;
    }
  }

  /** Per-IP limits and caps, then the issue (per-phone limits); any refusal refunds the first. */
  private async issueWithinLimits(req: AuthenticatedRequest, phone: NormalisedPhone, dto: SendOtpDto) {
    const ticket = await this.limits.send(req, phone);
    try {
      return await this.otp.issue({
        phone: phone.e164,
        purpose: dto.purpose,
        locale: dto.locale,
        client: req.client as string,
      });
    } catch (error) {
      await ticket.refund();
      throw error;
    }
  }

  /** Check a code typed by the user. */
  @Post('verify')
  @HttpCode(200)
  // Its outcomes carry `verified: false`, its not_found is a 400 (VERIFY_ANSWERS).
  @RouteConfig({ errorAnswers: 'verify' } satisfies ErrorAnswersRouteConfig)
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
  async verify(@Body() dto: VerifyOtpDto, @Req() req: AuthenticatedRequest) {
    const phone = this.otp.normalised(dto.phone, dto.defaultCountry);
    const ticket = await this.limits.verify(req, phone);
    try {
      return await this.otp.verify({
        client: req.client as string,
        phone: phone.e164,
        code: dto.code,
        purpose: dto.purpose,
      });
    } catch (error) {
      // A wrong code, or no usable code, counts per IP; a refusal by a per-phone limit does not.
      if (!(error instanceof DomainError && COUNTED_VERIFY_OUTCOMES.has(error.code))) await ticket.refund();
      throw error;
    }
  }

  /** State of one verification (only the client that created it may read it). */
  @Get(':id')
  @ApiOperation({ summary: 'State of one verification: verification status, delivery status and attempts' })
  @ApiParam({ name: 'id', description: 'The id returned by send', format: 'uuid' })
  @ApiOkResponse({ type: OtpStatusResponse })
  @ApiErrors(['unauthorized', 'not_found', 'internal_error', 'service_unavailable'])
  async get(@Param('id') id: string, @Req() req: AuthenticatedRequest) {
    const view = UUID.test(id) ? await this.status.view(id, req.client as string) : undefined;
    if (!view) throw new DomainError('not_found');
    return view;
  }
}
