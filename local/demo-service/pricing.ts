/**
 * The demo `pricing` service: real code for each version, run in-process by the local runtime.
 * 2.2.0 carries a real bug that only live traffic finds: it indexes the discount table by item
 * count, and the table stops at three items. The probe suite only sends small carts.
 * 2.3.0 formats the total for display (`"9.00"`): a changed field type that verification rejects.
 */
export interface Cart {
  currency: string;
  items: { sku: string; unitPrice: number; quantity: number }[];
}

export interface Quote {
  currency: string;
  subtotal: number;
  discount: number;
  total: number | string;
}

type PriceFn = (cart: Cart) => Quote;

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

function validate(cart: Cart): void {
  if (!cart || !Array.isArray(cart.items) || typeof cart.currency !== 'string') {
    throw new Error('cart must have a currency and items');
  }
}

const v2_0_0: PriceFn = (cart) => {
  validate(cart);
  const subtotal = round(cart.items.reduce((s, i) => s + i.unitPrice * i.quantity, 0));
  return { currency: cart.currency, subtotal, discount: 0, total: subtotal };
};

const v2_1_0: PriceFn = (cart) => {
  validate(cart);
  const subtotal = round(cart.items.reduce((s, i) => s + i.unitPrice * i.quantity, 0));
  // 5% off orders of 100 or more.
  const discount = subtotal >= 100 ? round(subtotal * 0.05) : 0;
  return { currency: cart.currency, subtotal, discount, total: round(subtotal - discount) };
};

const discountByItemCount = [0, 0, 0.02, 0.04];

const v2_2_0: PriceFn = (cart) => {
  validate(cart);
  const subtotal = round(cart.items.reduce((s, i) => s + i.unitPrice * i.quantity, 0));
  // Volume discount by number of lines. The bug: carts with more than 3 lines fall off the table.
  const rate = discountByItemCount[cart.items.length];
  if (rate === undefined) throw new TypeError(`Cannot read discount for ${cart.items.length} items`);
  const discount = round(subtotal * rate);
  return { currency: cart.currency, subtotal, discount, total: round(subtotal - discount) };
};

const v2_3_0: PriceFn = (cart) => {
  const quote = v2_1_0(cart);
  // The breaking change: the total as display text.
  return { ...quote, total: Number(quote.total).toFixed(2) };
};

export const pricingVersions: Record<string, PriceFn> = {
  '2.0.0': v2_0_0,
  '2.1.0': v2_1_0,
  '2.2.0': v2_2_0,
  '2.3.0': v2_3_0,
};

/** Versions without code of their own run the newest healthy code. */
export function pricingFor(version: string): PriceFn {
  return pricingVersions[version] ?? v2_1_0;
}

/** A live cart: 1 to 5 lines, deterministic for a given sequence number. */
export function liveCart(random: () => number): Cart {
  const lines = 1 + Math.floor(random() * 5);
  return {
    currency: random() < 0.5 ? 'EUR' : 'USD',
    items: Array.from({ length: lines }, (_, i) => ({
      sku: `sku-${i}`,
      unitPrice: round(5 + random() * 60),
      quantity: 1 + Math.floor(random() * 3),
    })),
  };
}
