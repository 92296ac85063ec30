import {
  Controller,
  Get,
  Injectable,
  UnauthorizedException,
  UseGuards,
  type CanActivate,
} from '@nestjs/common';

@Injectable()
class RefusingGuard implements CanActivate {
  canActivate(): boolean {
    return false;
  }
}

@Injectable()
class UnauthenticatedGuard implements CanActivate {
  canActivate(): boolean {
    throw new UnauthorizedException();
  }
}

/** A test-only controller whose guards refuse: 401 and 403 from guards. */
@Controller('guarded')
export class GuardedController {
  @Get('unauthenticated/:id')
  @UseGuards(UnauthenticatedGuard)
  unauthenticated(): string {
    return 'never';
  }

  @Get('forbidden')
  @UseGuards(RefusingGuard)
  forbidden(): string {
    return 'never';
  }
}
