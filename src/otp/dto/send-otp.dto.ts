import {
  IsIP,
  IsISO31661Alpha2,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
} from 'class-validator';

export class SendOtpDto {
  /** Any common spelling of a mobile number; normalised to E.164. */
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  phone!: string;

  /** ISO 3166-1 alpha-2 country for national formats (else OTP_DEFAULT_COUNTRY). */
  @IsOptional()
  @IsISO31661Alpha2()
  defaultCountry?: string;

  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_.:-]{1,64}$/, { message: 'purpose must be 1-64 letters, digits or _ . : -' })
  purpose?: string;

  /** The end user's IP, forwarded by the calling backend (used by the throttler). */
  @IsOptional()
  @IsIP()
  clientIp?: string;

  @IsOptional()
  @IsString()
  @Matches(/^[a-z]{2,3}([-_][A-Za-z]{2,4})?$/, { message: 'locale must look like en or pt-BR' })
  locale?: string;
}
