import { ApiProperty } from '@nestjs/swagger';

/** 200 body of POST /v1/otp/verify. Every other outcome is an ErrorResponse with `verified: false`. */
export class VerifyOtpResponse {
  @ApiProperty({ description: 'Always true on 200', enum: [true], example: true })
  verified!: true;

  @ApiProperty({
    description: 'The verification that was used',
    format: 'uuid',
    example: '3f2c1a9e-5b7d-4e0f-8a6c-1d2e3f4a5b6c',
  })
  id!: string;

  @ApiProperty({ format: 'date-time', example: '2025-01-01T12:00:42.000Z' })
  verifiedAt!: string;
}
