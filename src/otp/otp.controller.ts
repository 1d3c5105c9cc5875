import { Body, Controller, Get, Headers, HttpCode, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiKeyGuard, type AuthenticatedRequest } from '../common/auth/api-key.guard.js';
import { ApiException } from '../common/errors/api.exception.js';
import { SendOtpDto } from './dto/send-otp.dto.js';
import { VerifyOtpDto } from './dto/verify-otp.dto.js';
import { IdempotencyService } from './idempotency.service.js';
import { OtpStatusService } from './otp-status.service.js';
import { OtpService } from './otp.service.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

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
  async send(
    @Body() dto: SendOtpDto,
    @Req() req: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Headers('idempotency-key') idempotencyKey?: string,
  ) {
    const client = req.client as string;
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
  async get(@Param('id') id: string, @Req() req: AuthenticatedRequest) {
    const view = UUID.test(id) ? await this.status.view(id, req.client as string) : undefined;
    if (!view) throw new ApiException('not_found', 'No verification with this id');
    return view;
  }
}
