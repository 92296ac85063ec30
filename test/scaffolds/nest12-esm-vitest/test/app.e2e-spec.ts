import { Test, TestingModule } from '@nestjs/testing';
import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { App } from 'supertest/types.js';
import { AppModule } from './../src/app.module.js';

describe('AppController (e2e)', () => {
  let app: INestApplication<App>;

  beforeEach(async () => {
    const moduleFixture: TestingModule = await Test.createTestingModule({
      imports: [AppModule],
    }).compile();

    app = moduleFixture.createNestApplication();
    await app.init();
  });

  it('/ (GET)', () => {
    return request(app.getHttpServer())
      .get('/')
      .expect(200)
      .expect('Hello World!');
  });

  // Added by hand: what nestjs-production-readiness promises (its README).
  it('/ (GET) answers with a new correlation id', async () => {
    const response = await request(app.getHttpServer())
      .get('/')
      .expect(200)
      .expect('Hello World!');
    expect(response.headers['x-correlation-id']).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
  });

  it('/ (GET) echoes the X-Correlation-Id it is sent', () => {
    return request(app.getHttpServer())
      .get('/')
      .set('X-Correlation-Id', 'scaffold-e2e-1')
      .expect(200)
      .expect('x-correlation-id', 'scaffold-e2e-1');
  });

  it('an unknown route answers 404 problem+json with the correlation id', async () => {
    const response = await request(app.getHttpServer())
      .get('/no/such/route')
      .set('X-Correlation-Id', 'scaffold-e2e-2')
      .expect(404)
      .expect('Content-Type', /^application\/problem\+json/)
      .expect('x-correlation-id', 'scaffold-e2e-2');
    expect(response.body).toEqual({
      type: 'urn:problem-type:not-found',
      title: 'Not Found',
      status: 404,
      detail: expect.any(String),
      instance: '/no/such/route',
      code: 'NOT_FOUND',
      correlationId: 'scaffold-e2e-2',
    });
  });

  it('/livez (GET) answers 200', () => {
    return request(app.getHttpServer())
      .get('/livez')
      .expect(200)
      .expect('Content-Type', /^application\/health\+json/);
  });

  it('/metrics (GET) counts the requests answered', async () => {
    await request(app.getHttpServer()).get('/').expect(200);
    const response = await request(app.getHttpServer())
      .get('/metrics')
      .expect(200);
    expect(response.text).toMatch(
      /^http_requests_total\{method="GET",route="\/",status_code="200",service="[^"]+"\} [1-9]/m,
    );
  });

  it('refuses JSON nested 5,000 levels deep with 400 problem+json, and keeps serving', async () => {
    const deep = '['.repeat(5_000) + ']'.repeat(5_000);
    const response = await request(app.getHttpServer())
      .post('/')
      .set('Content-Type', 'application/json')
      .send(deep)
      .expect(400)
      .expect('Content-Type', /^application\/problem\+json/);
    expect(response.body).toMatchObject({
      status: 400,
      code: 'MALFORMED_REQUEST',
      correlationId: response.headers['x-correlation-id'],
    });
    await request(app.getHttpServer()).get('/').expect(200);
  });

  afterEach(async () => {
    await app.close();
  });
});
