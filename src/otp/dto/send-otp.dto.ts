import {
  IsIP,
  IsISO31661Alpha2,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
} from 'class-validator';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PURPOSE_PATTERN } from '../../codes/index.js';

export class SendOtpDto {
  /** Any common spelling of a mobile number; normalised to E.164. */
  @ApiProperty({
    description: 'Any common spelling of a mobile number; normalised to E.164 with libphonenumber',
    maxLength: 64,
    example: '+233 24 123 4567',
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  phone!: string;

  /** ISO 3166-1 alpha-2 country for national formats (else OTP_DEFAULT_COUNTRY). */
  @ApiPropertyOptional({
    description: 'ISO 3166-1 alpha-2 country used to read national formats (default OTP_DEFAULT_COUNTRY)',
    example: 'GH',
  })
  @IsOptional()
  @IsISO31661Alpha2()
  defaultCountry?: string;

  @ApiPropertyOptional({
    description: 'What the code is for; a code never verifies another purpose',
    pattern: '^[a-z0-9_-]{1,32}$',
    maxLength: 32,
    default: 'login',
    example: 'login',
  })
  @IsOptional()
  @IsString()
  // Decision 8: at most 32 characters of [a-z0-9_-] (a bounded, label-safe name, never free text).
  @Matches(PURPOSE_PATTERN, { message: 'purpose must be 1-32 lowercase letters, digits, _ or -' })
  purpose?: string;

  /** The end user's IP, forwarded by the calling backend (used by the throttler). */
  @ApiPropertyOptional({
    description: "The end user's IP, forwarded by the calling backend (keys the per-IP limits)",
    example: '203.0.113.9',
  })
  @IsOptional()
  @IsIP()
  clientIp?: string;

  @ApiPropertyOptional({ description: 'Language of the message', example: 'en' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z]{2,3}([-_][A-Za-z]{2,4})?$/, { message: 'locale must look like en or pt-BR' })
  locale?: string;
}
