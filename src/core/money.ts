/**
 * Money is kept in the database as numeric(12,4) and in TypeScript as a number of currency units
 * rounded to 4 decimal places (carriers price numbers to the cent, sometimes to the tenth of a cent).
 */
export interface Price {
  monthly: number;
  upfront: number;
  currency: string;
}

export function roundMoney(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

export function formatMoney(amount: number, currency = 'USD'): string {
  const symbol = currency === 'USD' ? '$' : currency === 'CAD' ? 'CA$' : `${currency} `;
  return `${symbol}${amount.toFixed(2)}`;
}

export function formatPrice(price: Price): string {
  return `${formatMoney(price.monthly, price.currency)}/mo + ${formatMoney(price.upfront, price.currency)} upfront`;
}
